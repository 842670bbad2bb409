# bash completion for fusebox(1)                          -*- shell-script -*-
#
# Nothing here lists commands or options: the program answers from the same
# tables that write its --help. `fusebox --complete WORD...` gets the words
# after "fusebox" up to the one being completed and prints "files" (complete
# file names) or "words" followed by the candidates, one a line.
# Installed as share/bash-completion/completions/fusebox.

_fusebox()
{
	local cur prev words cword split=false
	if declare -F _init_completion >/dev/null 2>&1; then
		_init_completion -s || return
	else
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
	fi

	# the fusebox being completed, when it can be run; else the one in PATH
	local prog=${words[0]}
	[[ $prog == */* && -x $prog ]] || prog=fusebox

	local -a args=("${words[@]:1:cword-1}")
	# --option=VALUE: complete VALUE as the option's argument
	if [[ $split == true ]]; then
		args+=("$prev")
	fi
	args+=("$cur")

	local -a lines
	mapfile -t lines < <("$prog" --complete "${args[@]}" 2>/dev/null)
	COMPREPLY=()
	case ${lines[0]-} in
	files)
		if declare -F _filedir >/dev/null 2>&1; then
			_filedir
		else
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		fi
		;;
	words)
		COMPREPLY=("${lines[@]:1}")
		;;
	esac
} &&
	complete -F _fusebox fusebox

# ex: filetype=sh
